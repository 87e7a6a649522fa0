//! WordPress patches (placeholder until the planner lands).

use anyhow::{Result, bail};

use super::render::Templates;
use super::{Plan, Planner, Target};
use crate::model::Site;

pub struct WordPressPlanner;

impl Planner for WordPressPlanner {
    fn plan(&self, site: &Site, _target: &Target, _templates: &Templates) -> Result<Plan> {
        bail!(
            "{}: apply for WordPress is not implemented yet",
            site.path.display()
        )
    }
}

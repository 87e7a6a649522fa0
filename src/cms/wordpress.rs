//! WordPress detection (placeholder until the detector lands).

use std::path::Path;

use super::{DetectError, Detector};
use crate::model::{Cms, Site};

pub struct WordPress;

impl Detector for WordPress {
    fn cms(&self) -> Cms {
        Cms::WordPress
    }

    fn detect(&self, _dir: &Path, _errors: &mut Vec<DetectError>) -> Option<Site> {
        None
    }
}

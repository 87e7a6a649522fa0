//! Medusa detection (placeholder until the detector lands).

use std::path::Path;

use super::{DetectError, Detector};
use crate::model::{Cms, Site};

pub struct Medusa;

impl Detector for Medusa {
    fn cms(&self) -> Cms {
        Cms::Medusa
    }

    fn detect(&self, _dir: &Path, _errors: &mut Vec<DetectError>) -> Option<Site> {
        None
    }
}

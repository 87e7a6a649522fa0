//! Drupal detection (placeholder until the detector lands).

use std::path::Path;

use super::{DetectError, Detector};
use crate::model::{Cms, Site};

pub struct Drupal;

impl Detector for Drupal {
    fn cms(&self) -> Cms {
        Cms::Drupal
    }

    fn detect(&self, _dir: &Path, _errors: &mut Vec<DetectError>) -> Option<Site> {
        None
    }
}

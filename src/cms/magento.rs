//! Magento detection (placeholder until the detector lands).

use std::path::Path;

use super::{DetectError, Detector};
use crate::model::{Cms, Site};

pub struct Magento;

impl Detector for Magento {
    fn cms(&self) -> Cms {
        Cms::Magento2
    }

    fn detect(&self, _dir: &Path, _errors: &mut Vec<DetectError>) -> Option<Site> {
        None
    }
}

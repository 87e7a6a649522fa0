//! `rcfg apply`: plan Redis config patches for a site from `templates/`, show them as
//! unified diffs or write them atomically. (Placeholder until the planner lands.)

pub mod cmd;

//! `rcfg audit-ttl PATH`: the code and config scanner for cache writes without expiry.
//! (Placeholder until the scanner lands.)

pub mod cmd;

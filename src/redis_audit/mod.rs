//! `rcfg audit-ttl --redis URL`: the read-only live keyspace audit. (Placeholder until the
//! auditor lands.)

use clap::Args;

#[derive(Debug, Args)]
pub struct RedisArgs {
    /// Audit a live Redis: redis://, rediss:// or unix:// URL.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
}

//! Readers for the config languages rcfg meets, as data: PHP (`php`) and JS/TS object
//! literals (`js`), plus `.env` files (`dotenv`). Nothing is ever executed.

pub mod dotenv;
pub mod js;
pub mod php;

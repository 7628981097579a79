//! One file per subcommand.

pub mod pretrain;
pub mod report;
pub mod run;
pub mod search;
pub mod sources;

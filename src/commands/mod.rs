//! One file per subcommand.

pub mod pretrain;
pub mod sources;

//! `adaptbench sources`: the source kinds a config can name.

use adaptbench_sources::catalogue;

/// Prints each source kind, its parameters and an example TOML table.
pub fn run() -> anyhow::Result<()> {
    for kind in catalogue() {
        println!("{}: {}", kind.kind, kind.summary);
        for (name, description) in kind.params {
            println!("    {name:<8} {description}");
        }
        println!("    example: {}\n", kind.example);
    }
    Ok(())
}

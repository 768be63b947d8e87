//! Host lists: the TOML file, command-line hosts, ranges like `web[01-20]`.

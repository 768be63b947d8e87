//! Host lists: the TOML file, command-line hosts, ranges like `web[01-20]`.
// TEMPORARY until the host-list module lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKeyCheck {
    Strict,
    AcceptNew,
    Off,
}

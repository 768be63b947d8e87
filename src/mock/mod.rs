//! The embedded mock SSH server and its practice shell.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on purpose"
)]

//! Integration tests: one binary, one module per area. Every test runs against real peers
//! (the mock server, OpenSSH's ssh/sshd, paramiko) on loopback, in an isolated HOME.

mod course;
mod course_programs;
mod event_trace;
mod flow_control;
mod host_keys;
mod lang_zh;
mod mock_console;
mod mock_server;
mod prompt_answers;
mod proxy;
mod pty;
mod reconnect;
mod recording;
mod reliability;
mod results_e2e;
mod run_cmd;
mod run_faults;
mod run_flow;
mod run_output;
mod run_prompts;
mod run_select;
mod security;
mod shell_integration;
mod ssh_auth;
mod ssh_config_alias;
mod ssh_config_options;
mod sshd;
mod support;
mod transfer;
mod transfer_progress;
mod tui_e2e;
mod tui_headless;
mod tui_transfer;

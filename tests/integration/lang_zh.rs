//! `--lang zh` and a Chinese locale: `mtssh run` reports in Chinese against the mock.

use crate::run_cmd::{mtssh, mtssh_with};
use crate::support::{self, TestEnv};

#[tokio::test]
async fn run_in_chinese_reports_its_summary_in_chinese() {
    let env = TestEnv::new();
    let server = support::mock(3).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let args = [
        "run",
        "-f",
        hosts.to_str().unwrap(),
        "--known-hosts",
        kh.to_str().unwrap(),
        "-c",
        "echo 你好; exit 3",
    ];
    let out = mtssh(&env, &[&args[..], &["--lang", "zh"]].concat()).await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stdout.contains("mock-[01-03] (退出码 3)\n") && out.stdout.contains("\n你好\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("共 3 台主机：0 台成功，3 台退出码非 0，0 台失败，0 台超时"),
        "{}",
        out.stderr
    );

    // The locale alone chooses Chinese; --lang en wins over it.
    let zh_locale = [("LC_MESSAGES", "zh_CN.UTF-8")];
    let out = mtssh_with(&env, &zh_locale, &args).await;
    assert!(out.stderr.contains("共 3 台主机"), "{}", out.stderr);
    let out = mtssh_with(&env, &zh_locale, &[&["--lang", "en"], &args[..]].concat()).await;
    assert!(
        out.stderr
            .contains("3 hosts: 0 ok, 3 non-zero exit, 0 failed, 0 timed out"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("mock-[01-03] (exit 3)\n"),
        "{}",
        out.stdout
    );
}

//! Expansion and folding, by example.

use super::*;

#[test]
fn fold_handles_a_multi_byte_character_before_the_number() {
    // Found by fuzzing: the number's start was taken one byte past the character.
    assert_eq!(fold(&["wüb0", "wüb1", "中3"]), ["wüb[0-1]", "中3"]);
}

fn ex(p: &str) -> Vec<String> {
    expand(p).unwrap()
}

#[test]
fn expands_padded_range() {
    let v = ex("web[01-20]");
    assert_eq!(v.len(), 20);
    assert_eq!(v[0], "web01");
    assert_eq!(v[19], "web20");
}

#[test]
fn expands_lists_and_products() {
    assert_eq!(ex("db[1-3,7]"), ["db1", "db2", "db3", "db7"]);
    assert_eq!(ex("r[1-2]n[1-2]"), ["r1n1", "r1n2", "r2n1", "r2n2"]);
    assert_eq!(ex("plain.example.com"), ["plain.example.com"]);
    assert_eq!(ex("[1-2].x"), ["1.x", "2.x"]);
    assert_eq!(ex("10.0.0.[1-3]"), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
}

#[test]
fn steps() {
    assert_eq!(ex("web[1-10/2]"), ["web1", "web3", "web5", "web7", "web9"]);
    assert_eq!(ex("n[000-012/4]"), ["n000", "n004", "n008", "n012"]);
    assert_eq!(ex("n[1-3/5]"), ["n1"]);
    assert_eq!(ex("n[0-6/2,9]"), ["n0", "n2", "n4", "n6", "n9"]);
    assert_eq!(ex("n[1-2/1]"), ["n1", "n2"]);
    assert_eq!(
        ex("x[0-18446744073709551615/18446744073709551615]").len(),
        2
    );
    assert_eq!(ex("x[1-200000/2]").len(), 100_000);
    assert!(matches!(
        expand("x[0-200000/2]"),
        Err(RangeError::TooLarge { .. })
    ));
}

#[test]
fn padding_rules() {
    assert_eq!(ex("n[8-10]"), ["n8", "n9", "n10"]);
    assert_eq!(ex("n[08-10]"), ["n08", "n09", "n10"]);
    assert_eq!(ex("n[001-2]"), ["n001", "n002"]);
    assert_eq!(ex("n[0-1]"), ["n0", "n1"]);
    assert_eq!(ex("n[007]"), ["n007"]);
}

#[test]
fn errors() {
    let cases = [
        "",
        "web[1-3",
        "web1-3]",
        "web[[1-3]]",
        "web[]",
        "web[1,,2]",
        "web[5-1]",
        "web[a-c]",
        "web[1-]",
        "web[-1]",
        "web[1-2-3]",
        "web[ 1]",
        "x[0-999999999]",
        "x[0-99999999999999999999999]",
        "x[0-999]y[0-999]",
        "x[0-18446744073709551615]",
        "web[1-10/0]",
        "web[1-10/]",
        "web[1-10/x]",
        "web[5/2]",
        "web[1-4/2/2]",
    ];
    let out: Vec<String> = cases
        .iter()
        .map(|c| format!("{c:?} => {}", expand(c).unwrap_err()))
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn cap_is_exact() {
    assert_eq!(ex("x[1-100000]").len(), 100_000);
    assert!(matches!(
        expand("x[0-100000]"),
        Err(RangeError::TooLarge { .. })
    ));
}

#[test]
fn folds() {
    let names = ["web01", "web02", "web03", "web07", "db1"];
    assert_eq!(fold(&names), ["db1", "web[01-03,07]"]);
    assert_eq!(fold_to_string(&names), "db1,web[01-03,07]");
    assert_eq!(fold(&["web09", "web10", "web11"]), ["web[09-11]"]);
    assert_eq!(fold(&["web1", "web01"]), ["web1", "web01"]);
    assert_eq!(fold(&["web1", "web10", "web2"]), ["web[1-2,10]"]);
    assert_eq!(fold(&["a", "a", "b"]), ["a", "b"]);
    assert_eq!(fold(&["r1n1", "r1n2", "r2n1"]), ["r1n[1-2]", "r2n1"]);
    assert_eq!(fold(&["n1.x", "n2.x", "n3.y"]), ["n[1-2].x", "n3.y"]);
    assert_eq!(fold::<&str>(&[]), Vec::<String>::new());
    assert_eq!(fold(&["web08", "web9", "web100"]), ["web08", "web[9,100]"]);
    let max = ["n18446744073709551614", "n18446744073709551615"];
    assert_eq!(fold(&max), ["n[18446744073709551614-18446744073709551615]"]);
}

#[test]
fn natural_order() {
    let mut v = vec!["web10", "web2", "db1", "web02", "web1"];
    v.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(v, ["db1", "web1", "web2", "web02", "web10"]);
}

/// Small deterministic generator; a dependency would be overkill here.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn fold_expand_round_trip() {
    let prefixes = ["web", "db", "r1n", "", "a-", "x.y"];
    let suffixes = ["", ".example.com", "-mgmt", "b"];
    let mut rng = Lcg(0x5eed);
    for _ in 0..2000 {
        let count = rng.below(30) as usize;
        let mut names = Vec::with_capacity(count);
        for _ in 0..count {
            let prefix = prefixes[rng.below(prefixes.len() as u64) as usize];
            let suffix = suffixes[rng.below(suffixes.len() as u64) as usize];
            let name = match rng.below(5) {
                0 => format!("{prefix}{suffix}"),
                1 => format!("{prefix}{:03}{suffix}", rng.below(1200)),
                2 => format!("{prefix}{:02}{suffix}", rng.below(120)),
                _ => format!("{prefix}{}{suffix}", rng.below(130)),
            };
            if !name.is_empty() {
                names.push(name);
            }
        }
        let folded = fold(&names);
        let mut back: Vec<String> = folded
            .iter()
            .flat_map(|p| expand(p).unwrap_or_else(|e| panic!("{p}: {e}")))
            .collect();
        let mut want = names.clone();
        want.sort_by(|a, b| natural_cmp(a, b));
        want.dedup();
        let produced = back.len();
        back.sort_by(|a, b| natural_cmp(a, b));
        back.dedup();
        assert_eq!(produced, back.len(), "duplicates from {folded:?}");
        assert_eq!(back, want, "folded {names:?} into {folded:?}");
    }
}

#[test]
fn in_chinese_a_bad_pattern_and_an_unreadable_host_list_say_so_in_chinese() {
    use crate::lang::{Lang, with};
    let reversed = expand("web[9-1]").unwrap_err();
    assert_eq!(reversed.to_string(), "reversed range `9-1` in `web[9-1]`");
    with(Lang::Zh, || {
        assert_eq!(reversed.to_string(), "`web[9-1]` 中的范围 `9-1` 写反了");
        let missing = crate::config::ConfigError::Io {
            path: "/nonexistent/hosts.toml".into(),
            err: std::io::Error::from_raw_os_error(2),
        };
        assert_eq!(
            missing.to_string(),
            "/nonexistent/hosts.toml：无法读取：没有这个文件或目录 (os error 2)"
        );
    });
}

//! The last cuts on the resolved targets, after every default and ssh_config setting was
//! applied: the same `user@host:port` selected twice runs once, and `--pick N` keeps a
//! random N of them.

use crate::ssh::Target;

/// Where a target really goes: user, host and port after resolution, and the route on the
/// way, jump hosts or ProxyCommand (the same address behind two bastions can be two
/// machines).
fn destination(target: &Target) -> String {
    let mut key = String::new();
    let mut hop = Some(target);
    while let Some(t) = hop {
        if !key.is_empty() {
            key.push_str(" via ");
        }
        key.push_str(&format!("{}@{}:{}", t.user, t.host, t.port));
        if let Some(proxy) = &t.proxy {
            key.push_str(&format!(" by {}", proxy.command));
        }
        hop = t.jump.as_deref();
    }
    key
}

/// Keeps the first target of each destination, in order, and says which were dropped.
/// Copies made by `--count` come later and are never dropped here.
pub fn dedupe(targets: Vec<Target>) -> (Vec<Target>, Vec<String>) {
    let mut kept: Vec<Target> = Vec::with_capacity(targets.len());
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    // Dropped names, and the names of the targets they duplicate.
    let (mut dropped, mut same_as) = (Vec::new(), Vec::new());
    for target in targets {
        // A host refused for its configuration goes nowhere: it stays, to say why.
        if target.refusal.is_some() {
            kept.push(target);
            continue;
        }
        let key = destination(&target);
        match seen.get(&key) {
            Some(&index) => {
                dropped.push(target.name);
                same_as.push(kept[index].name.clone());
            }
            None => {
                seen.insert(key, kept.len());
                kept.push(target);
            }
        }
    }
    let mut notices = Vec::new();
    if !dropped.is_empty() {
        notices.push(format!(
            "{} selected more than once (the same user@host:port as {}): each runs once",
            super::fold_to_string(&dropped),
            super::fold_to_string(&same_as),
        ));
    }
    (kept, notices)
}

/// `--pick N`: a random N of the targets, in their order (all of them when there are no
/// more than N).
pub fn pick<R: rand::Rng + ?Sized>(targets: &mut Vec<Target>, n: usize, rng: &mut R) {
    if n >= targets.len() {
        return;
    }
    let mut chosen = rand::seq::index::sample(rng, targets.len(), n).into_vec();
    chosen.sort_unstable();
    let mut index = 0;
    let mut next = chosen.into_iter().peekable();
    targets.retain(|_| {
        let keep = next.peek() == Some(&index);
        if keep {
            next.next();
        }
        index += 1;
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, user: &str, host: &str, port: u16) -> Target {
        let key = russh::keys::PublicKey::from_openssh(include_str!(
            "../../tests/fixtures/keys/host_ed25519.pub"
        ))
        .unwrap();
        Target::new(
            name,
            host,
            port,
            user,
            crate::ssh::HostKeyPolicy::Pinned(key),
        )
    }

    #[test]
    fn the_same_destination_runs_once_with_a_notice() {
        let targets = vec![
            target("web1", "deploy", "10.0.0.1", 22),
            target("web2", "deploy", "10.0.0.2", 22),
            target("deploy@10.0.0.1", "deploy", "10.0.0.1", 22),
            target("root@10.0.0.1", "root", "10.0.0.1", 22),
            target("10.0.0.1:2222", "deploy", "10.0.0.1", 2222),
            target("alias2", "deploy", "10.0.0.2", 22),
        ];
        let (kept, notices) = dedupe(targets);
        let names: Vec<&str> = kept.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["web1", "web2", "root@10.0.0.1", "10.0.0.1:2222"]);
        assert_eq!(
            notices,
            [
                "alias2,deploy@10.0.0.1 selected more than once (the same user@host:port as web[1-2]): each runs once"
            ]
        );
    }

    #[test]
    fn through_different_proxy_commands_is_not_the_same_host() {
        let mut a = target("a", "u", "10.0.0.1", 22);
        let mut b = target("b", "u", "10.0.0.1", 22);
        a.proxy = Some(crate::ssh::ProxyCommand {
            command: "ssh -W 10.0.0.1:22 gw1".into(),
        });
        b.proxy = Some(crate::ssh::ProxyCommand {
            command: "ssh -W 10.0.0.1:22 gw2".into(),
        });
        let (kept, notices) = dedupe(vec![a, b]);
        assert_eq!(kept.len(), 2, "{notices:?}");
    }

    #[test]
    fn behind_different_jump_hosts_is_not_the_same_host() {
        let mut a = target("a", "u", "10.0.0.1", 22);
        let mut b = target("b", "u", "10.0.0.1", 22);
        a.jump = Some(Box::new(target("gw1", "u", "gw1", 22)));
        b.jump = Some(Box::new(target("gw2", "u", "gw2", 22)));
        let (kept, notices) = dedupe(vec![a, b]);
        assert_eq!(kept.len(), 2);
        assert!(notices.is_empty());
    }

    #[test]
    fn pick_keeps_a_random_subset_in_order() {
        let all: Vec<Target> = (0..20)
            .map(|i| target(&format!("h{i:02}"), "u", &format!("h{i:02}"), 22))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let mut targets = all.clone();
            pick(&mut targets, 3, &mut rand::rng());
            let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
            assert_eq!(names.len(), 3);
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted, names, "in order, no repeats");
            assert!(names.iter().all(|n| all.iter().any(|t| &t.name == n)));
            seen.insert(names);
        }
        // 50 draws of 3 from 20 (1140 subsets): all alike would mean no randomness.
        assert!(seen.len() > 1, "{seen:?}");
        let mut few = all[..2].to_vec();
        pick(&mut few, 5, &mut rand::rng());
        assert_eq!(few.len(), 2);
    }
}

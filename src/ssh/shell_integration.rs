//! Shell integration: shell code that makes bash and zsh mark their prompts and commands with
//! OSC 133 (A before the prompt, B after it, C before a command runs, D;status after it), so
//! exit statuses are exact instead of unknown.
//!
//! The same code serves two ways: `mtssh shell-integration bash|zsh` prints it for rc files,
//! and a pane with shell integration on gets it typed in as one line once the shell is ready
//! ([`install_line`]). That line ends by printing [`READY_SENTINEL`], which tells the pane to
//! show output again (it hides the line's echo until then), and it removes itself from the
//! shell's history.

use std::fmt;
use std::str::FromStr;

/// Which hook a host's shell gets, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ShellIntegration {
    #[default]
    Off,
    /// Decided by the shell itself: the injected line tests `$BASH_VERSION` / `$ZSH_VERSION`.
    Auto,
    Bash,
    Zsh,
}

impl ShellIntegration {
    pub const NAMES: [&'static str; 4] = ["auto", "bash", "zsh", "off"];

    pub fn is_on(self) -> bool {
        self != ShellIntegration::Off
    }
}

impl fmt::Display for ShellIntegration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShellIntegration::Off => "off",
            ShellIntegration::Auto => "auto",
            ShellIntegration::Bash => "bash",
            ShellIntegration::Zsh => "zsh",
        })
    }
}

impl FromStr for ShellIntegration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(ShellIntegration::Off),
            "auto" => Ok(ShellIntegration::Auto),
            "bash" => Ok(ShellIntegration::Bash),
            "zsh" => Ok(ShellIntegration::Zsh),
            other => Err(format!(
                "shell integration {other:?} is none of {}",
                Self::NAMES.join(", ")
            )),
        }
    }
}

/// What the injected line prints last, as bytes on the wire. The line itself spells it with
/// `printf` escapes, so its echo never contains it: only running the line produces it.
pub const READY_SENTINEL: &[u8] = b"\x1b]133;A;mtssh-ready\x07";
/// How the install line's echo begins (after its leading space): what the pane keeps of the
/// output it held back ends here.
pub const ECHO_START: &[u8] = b": __mtssh_install";

/// bash: D from PROMPT_COMMAND (first, so `$?` is the command's), A and B around PS1 (inside
/// `\[ \]` so readline does not count them as width), C from PS0 (bash >= 4.4; not given to readline, so no
/// `\[ \]`), printed as bash starts to run the accepted line.
const BASH: &str = r#"__mtssh_precmd() { local s=$?; printf '\033]133;D;%s\007' "$s"; return $s; }; if [[ $PROMPT_COMMAND != *__mtssh_precmd* ]]; then PROMPT_COMMAND="__mtssh_precmd${PROMPT_COMMAND:+;$PROMPT_COMMAND}"; PS1='\[\033]133;A\007\]'"$PS1"'\[\033]133;B\007\]'; PS0='\033]133;C\007'"${PS0-}"; fi"#;

/// zsh: D then A from precmd, B at the end of PROMPT (inside `%{ %}`, zero width), C from
/// preexec.
const ZSH: &str = r#"__mtssh_precmd() { local s=$?; printf '\033]133;D;%s\007\033]133;A\007' "$s"; return $s; }; __mtssh_preexec() { printf '\033]133;C\007'; }; if [[ ${precmd_functions[(r)__mtssh_precmd]} != __mtssh_precmd ]]; then autoload -Uz add-zsh-hook; add-zsh-hook precmd __mtssh_precmd; add-zsh-hook preexec __mtssh_preexec; PROMPT="$PROMPT"$'%{\e]133;B\a%}'; fi"#;

/// zsh, typed in only: zsh puts a line in its history before running it, and has no way to
/// delete an entry. Unless HIST_IGNORE_SPACE already keeps the line (it starts with a space)
/// out, the shell switches to a history list read afresh from its HISTFILE (`fc -p`), which
/// holds everything but this line (it is the session's first), and the list it leaves,
/// holding the line, is given no file to be saved to when zsh pops it at exit. A HISTFILE
/// written line by line (INC_APPEND_HISTORY, SHARE_HISTORY) has the line already: there only
/// HIST_IGNORE_SPACE keeps it out.
const ZSH_FORGET: &str = r#"if [[ ! -o hist_ignore_space ]]; then __mtssh_forget() { local f=$HISTFILE h=$HISTSIZE s=$SAVEHIST; HISTFILE= SAVEHIST=0; if [[ -n $f ]]; then fc -p "$f" "$h" "$s"; else fc -p; HISTSIZE=$h; fi; }; __mtssh_forget; unfunction __mtssh_forget; fi"#;

/// The snippet for an rc file (`mtssh shell-integration bash|zsh`).
pub fn snippet(shell: ShellIntegration) -> Option<&'static str> {
    match shell {
        ShellIntegration::Bash => Some(BASH),
        ShellIntegration::Zsh => Some(ZSH),
        ShellIntegration::Auto | ShellIntegration::Off => None,
    }
}

/// The line typed into a ready shell, carriage return included.
///
/// It starts with a space (ignored by history where HISTCONTROL/HIST_IGNORE_SPACE say so)
/// and, in bash, deletes its own history entry — only when the newest entry really is this
/// line, so a user whose settings kept it out of history loses nothing; zsh leaves it
/// behind in a history list that is never saved (see [`ZSH_FORGET`]). POSIX sh and other
/// shells get nothing but the sentinel (their prompts have no hook to hang D on without
/// rewriting PS1 in ways that differ per shell), so the pane shows again and results there
/// stay "status unknown".
pub fn install_line(mode: ShellIntegration) -> Option<String> {
    let bash = format!(
        "{BASH}; case \"$(HISTTIMEFORMAT= builtin history 1 2>/dev/null)\" in \
         *__mtssh_install*) builtin history -d -1 2>/dev/null;; esac"
    );
    let zsh = format!("{ZSH}; {ZSH_FORGET}");
    let body = match mode {
        ShellIntegration::Off => return None,
        ShellIntegration::Bash => format!("if [ -n \"$BASH_VERSION\" ]; then {bash}; fi"),
        ShellIntegration::Zsh => format!("if [ -n \"$ZSH_VERSION\" ]; then {zsh}; fi"),
        ShellIntegration::Auto => format!(
            "if [ -n \"$BASH_VERSION\" ]; then {bash}; elif [ -n \"$ZSH_VERSION\" ]; then {zsh}; fi"
        ),
    };
    // `: __mtssh_install` marks the history entry for the bash clean-up above; the sentinel
    // comes last, after every hook is in place.
    Some(format!(
        " : __mtssh_install; {body}; printf '\\033]133;A;mtssh-ready\\007'\r"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_print_back() {
        for name in ShellIntegration::NAMES {
            let mode: ShellIntegration = name.parse().unwrap();
            assert_eq!(mode.to_string(), name);
        }
        assert!("fish".parse::<ShellIntegration>().is_err());
        assert!(!ShellIntegration::default().is_on());
    }

    #[test]
    fn the_install_line_is_one_line_and_never_spells_the_sentinel() {
        assert_eq!(install_line(ShellIntegration::Off), None);
        for mode in [
            ShellIntegration::Auto,
            ShellIntegration::Bash,
            ShellIntegration::Zsh,
        ] {
            let line = install_line(mode).unwrap();
            assert!(line.starts_with(' ') && line.ends_with('\r'));
            assert!(!line[..line.len() - 1].contains(['\r', '\n']));
            assert!(!line.as_bytes().windows(2).any(|w| w == b"\x1b]"));
        }
    }
}

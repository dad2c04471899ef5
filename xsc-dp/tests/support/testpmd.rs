//! Runs commands through the real `dpdk-testpmd` (Debian's `dpdk-dev`) and
//! reports which ones its command parser rejected.
//!
//! testpmd runs interactively on a `net_null` port without hugepages, reads
//! the commands from stdin and echoes each one after its prompt; a command
//! its parser cannot read answers `Bad arguments`. Device errors (a
//! `net_null` port has no rte_flow at all) are fine: they prove the command
//! parsed.

use std::io::Write;
use std::process::{Command, Stdio};

/// What testpmd said about one command.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The command as testpmd echoed it.
    pub command: String,
    /// Everything testpmd printed in answer.
    pub answer: String,
}

impl Verdict {
    /// Whether testpmd's parser rejected the command.
    pub fn bad_arguments(&self) -> bool {
        self.answer.contains("Bad arguments")
    }
}

/// Whether `dpdk-testpmd` is installed.
pub fn available() -> bool {
    Command::new("dpdk-testpmd")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Feeds `commands` to one testpmd session and returns its answer to each.
pub fn run(commands: &[String]) -> Vec<Verdict> {
    // One stream, so each answer (testpmd reports device errors on stderr)
    // stays after its command.
    let mut child = Command::new("sh")
        .args([
            "-c",
            "exec timeout 60 dpdk-testpmd --no-huge -m 256 --no-shconf --no-pci --no-telemetry \
              '--log-level=*:error' --vdev=net_null0 -- -i --total-num-mbufs=2048 2>&1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dpdk-testpmd");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for c in commands {
            writeln!(stdin, "{c}").expect("write to testpmd");
        }
        writeln!(stdin, "quit").expect("write to testpmd");
    }
    let out = child.wait_with_output().expect("testpmd output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut verdicts: Vec<Verdict> = text
        .split("testpmd> ")
        .skip(1)
        .map(|block| {
            let (command, answer) = block.split_once('\n').unwrap_or((block, ""));
            Verdict {
                command: command.trim().to_string(),
                answer: answer.to_string(),
            }
        })
        .collect();
    // The last prompt answers `quit`.
    verdicts.retain(|v| v.command != "quit");
    assert_eq!(
        verdicts.len(),
        commands.len(),
        "testpmd answered {} of {} commands; its output:\n{text}",
        verdicts.len(),
        commands.len()
    );
    verdicts
}

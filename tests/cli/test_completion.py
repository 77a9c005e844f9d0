"""Shell completion (click's, ``_CLOUDPANE_COMPLETE``) for bash, zsh and fish, and the examples of each ``--help``.

The real executable: ``cloudpane completion SHELL`` prints what ``_CLOUDPANE_COMPLETE=SHELL_source cloudpane``
prints, bash loads it, and the completion protocol answers commands, options and locations.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cli.conftest import Cli, cloudpane_command


def _complete(cli: Cli, words: str, cword: int) -> list[tuple[str, str]]:
    """What bash's completion asks of cloudpane: (type, value) pairs."""
    r = cli.with_env(_CLOUDPANE_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword)).run().check(0)
    pairs = [tuple(line.split(",", 1)) for line in r.stdout_lines]
    return [(p[0], p[1]) for p in pairs if len(p) == 2]


def test_completion_command_prints_click_scripts(tmp_path: Path) -> None:
    cli = Cli(cwd=tmp_path)
    bash, zsh, fish, bad = cli.run_many(
        ["completion", "bash"], ["completion", "zsh"], ["completion", "fish"], ["completion", "tcsh"]
    )
    assert "_cloudpane_completion()" in bash.check(0).stdout and "complete -o nosort -F" in bash.stdout, bash
    assert "#compdef cloudpane" in zsh.check(0).stdout, zsh
    assert "complete --no-files --command cloudpane" in fish.check(0).stdout, fish
    assert bad.returncode == 2, bad
    # the same script as click's own variable prints
    own = cli.with_env(_CLOUDPANE_COMPLETE="bash_source").run().check(0)
    assert own.stdout.strip() == bash.stdout.strip()


def test_bash_loads_the_script(tmp_path: Path) -> None:
    exe = cloudpane_command()[0]
    script = f'eval "$({exe} completion bash)"; complete -p cloudpane'
    bash = "/bin/bash"  # the shell the script is for (installed on every CI image)
    r = subprocess.run([bash, "-c", script], capture_output=True, text=True, timeout=60, env=Cli().env)
    assert r.returncode == 0, r
    assert r.stdout.strip() == "complete -o nosort -F _cloudpane_completion cloudpane", r
    # and the function bash calls on Tab answers from the executable
    ask = f'eval "$({exe} completion bash)"; COMP_WORDS=(cloudpane back); COMP_CWORD=1; _cloudpane_completion {exe}; '
    ask += 'printf "<%s>\\n" "${COMPREPLY[@]}"'
    r = subprocess.run([bash, "-c", ask], capture_output=True, text=True, timeout=60, env=Cli().env)
    assert (r.returncode, r.stdout) == (0, "<backup>\n"), r


def test_commands_options_and_locations_complete(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "config.toml").write_text('[remotes.lab]\ntype = "s3"\nendpoint_url = "http://127.0.0.1:9"\n')
    cli = Cli(cwd=tmp_path).with_env(CLOUDPANE_CONFIG_DIR=str(config))

    assert ("plain", "ls") in _complete(cli, "cloudpane l", 1)
    options = _complete(cli, "cloudpane cp --end", 2)
    assert options == [("plain", "--endpoint-url")], options
    assert ("plain", "--profile") in _complete(cli, "cloudpane --pro", 1)
    # a location: the schemes, the remotes of the config, and the shell's own file completion
    empty = _complete(cli, "cloudpane ls ", 2)
    assert {("plain", "s3://"), ("plain", "az://"), ("plain", "lab:"), ("file", "")} <= set(empty), empty
    assert _complete(cli, "cloudpane cp ./a l", 3) == [("plain", "lab:"), ("file", "l")]
    # inside a remote location nothing is listed over the network (no file completion either)
    assert _complete(cli, "cloudpane ls s3://bu", 2) == []


def test_every_command_help_has_examples(tmp_path: Path) -> None:
    cli = Cli(cwd=tmp_path)
    commands = ["ls", "mb", "rb", "cp", "mv", "rm", "versions", "presign", "transfers", "backup", "restore", "sync"]
    commands += ["demo-server", "completion"]
    results = cli.run_many(*[[c, "--help"] for c in commands])
    for command, r in zip(commands, results, strict=True):
        text = r.check(0).stdout
        assert "\n  Examples:\n" in text, (command, text)
        examples = text.split("\n  Examples:\n", 1)[1].splitlines()
        ran = [line.split("#", 1)[0].strip() for line in examples if line.strip() and not line.strip().startswith("#")]
        assert 1 <= len(ran) <= 3, (command, examples)
        assert all(f"cloudpane {command}" in line for line in ran), (command, ran)

package dev.pgbranch.pageserver.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code pgbranch completion bash|zsh}: prints a completion script generated from the command
 * model (picocli's {@link AutoComplete}), so it always knows every subcommand and option of this
 * build. The script is bash; zsh runs it through {@code bashcompinit}, which the script loads
 * itself when sourced by zsh.
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = "Print a shell completion script: source <(pgbranch completion bash), or in ~/.zshrc "
                + "source <(pgbranch completion zsh).")
final class CompletionCommand implements Callable<Integer> {

    enum Shell { bash, zsh }

    @Parameters(index = "0", paramLabel = "SHELL", description = "${COMPLETION-CANDIDATES}")
    Shell shell;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        // One script serves both shells: under zsh it enables bashcompinit before registering.
        String script = AutoComplete.bash(spec.root().name(), spec.root().commandLine());
        spec.commandLine().getOut().print(script);
        spec.commandLine().getOut().flush();
        return 0;
    }
}

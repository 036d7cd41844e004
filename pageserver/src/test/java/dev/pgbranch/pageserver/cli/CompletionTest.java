package dev.pgbranch.pageserver.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generated completion script, sourced by a real bash and asked the way a TAB press asks it. */
class CompletionTest {

    @TempDir
    Path directory;

    @Test
    void bashCompletesSubcommandsAndOptionsFromTheGeneratedScript() throws Exception {
        Path script = directory.resolve("pgbranch-completion.bash");
        Files.writeString(script, generate("bash"));
        assertEquals(List.of("branch"), complete(script, "pgbranch", "br"));
        assertEquals(List.of("list"), complete(script, "pgbranch", "branch", "li"));
        assertTrue(complete(script, "pgbranch", "env", "dev", "--").contains("--file"));
        assertTrue(complete(script, "pgbranch", "branch", "list", "--d").contains("--data-dir"));
    }

    @Test
    void zshGetsTheSameModelThroughBashcompinit() {
        String zsh = generate("zsh");
        assertTrue(zsh.contains("bashcompinit"), zsh);
        assertTrue(zsh.contains("completion"), "the script knows the completion command itself");
    }

    private static String generate(String shell) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, Main.run(new String[] {"completion", shell}, new PrintWriter(out), new PrintWriter(err)),
                err.toString());
        return out.toString();
    }

    /** COMPREPLY of the script's completion function for the words typed so far (the last one being completed). */
    private static List<String> complete(Path script, String... words) throws Exception {
        StringBuilder quoted = new StringBuilder();
        for (String w : words) {
            quoted.append(" '").append(w).append('\'');
        }
        String program = "source '" + script + "'\n"
                + "COMP_WORDS=(" + quoted + ")\n"
                + "COMP_CWORD=" + (words.length - 1) + "\n"
                + "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n"
                + "fn=$(complete -p pgbranch | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')\n"
                + "\"$fn\" pgbranch \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
                + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        Process bash = new ProcessBuilder("bash", "--norc", "--noprofile", "-c", program).redirectErrorStream(true).start();
        String output = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bash.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, bash.exitValue(), output);
        return output.lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}

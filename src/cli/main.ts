/**
 * The `spell` command line. This is the only place that reads argv/env and sets exit codes;
 * each subcommand lives in `commands/<name>.ts` and registers itself on the program.
 */
import { Command, CommanderError } from 'commander';
import { InterruptedError, SpellError, describeError } from '../core/index.ts';
import { registerCommands } from './commands/index.ts';

const program = new Command();
program
  .name('spell')
  .description(
    'SPELL: self-play RL for long-context language models (questioner, responder, verifier)',
  )
  .version('0.1.0')
  .configureOutput({
    // Usage errors as one line, like every other error (Commander may add a "Did you mean" line).
    outputError: (text, write) => write(`spell: ${text.replace(/\s*\n\s*/g, ' ').trim()}\n`),
  })
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit 0, a bare `spell` shows help with Commander's code; anything else
    // Commander throws is a usage error (unknown option, missing value, ...): exit 2 like bad input.
    const shownHelp = ['commander.helpDisplayed', 'commander.version', 'commander.help'];
    process.exitCode = shownHelp.includes(err.code) ? err.exitCode : 2;
  } else if (err instanceof InterruptedError) {
    process.stderr.write(`spell: ${err.message}\n`);
    process.exitCode = 130;
  } else if (err instanceof SpellError) {
    process.stderr.write(`spell: ${err.name}: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`spell: unexpected error: ${describeError(err)}\n`);
    if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}

/** Every subcommand, registered in the order `spell --help` lists them. */
import type { Command } from 'commander';

export function registerCommands(_program: Command): void {
  // Subcommands are added here as they land (score, train, serve, eval, data, bench, ...).
}

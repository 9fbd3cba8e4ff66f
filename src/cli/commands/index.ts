/** Every subcommand, registered in the order `spell --help` lists them. */
import type { Command } from 'commander';
import { registerBench } from './bench.ts';
import { registerData } from './data.ts';
import { registerEval } from './eval.ts';
import { registerScore } from './score.ts';
import { registerServe } from './serve.ts';
import { registerTokenizer } from './tokenizer.ts';
import { registerTrain } from './train.ts';
import { registerModel } from './model.ts';
import { registerReport } from './report.ts';
import { registerDashboard } from './dashboard.ts';
import { registerGenerate } from './generate.ts';
import { registerPretrain } from './pretrain.ts';
import { registerExperiment } from './experiment.ts';
import { registerExport } from './export.ts';

export function registerCommands(program: Command): void {
  // Subcommands are added here as they land (score, train, serve, eval, data, bench, ...).
  registerTrain(program);
  registerModel(program);
  registerExport(program);
  registerReport(program);
  registerDashboard(program);
  registerTokenizer(program);
  registerScore(program);
  registerServe(program);
  registerBench(program);
  registerData(program);
  registerEval(program);
  registerGenerate(program);
  registerPretrain(program);
  registerExperiment(program);
}

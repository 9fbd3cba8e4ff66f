/**
 * Builds the resolved TrainConfig from its sources, in precedence order:
 * preset < YAML config file < command-line flags < key=value overrides.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigurationError } from '../core/errors.ts';
import {
  PRESETS,
  mergeTrees,
  parseOverrides,
  resolveTrainConfig,
  type ConfigTree,
  type TrainConfig,
} from './config.ts';

export interface ConfigSources {
  readonly preset?: string;
  readonly configFile?: string;
  /** Flag values already shaped as a config tree (e.g. { steps: 3, engine: { kind: 'tinker' } }). */
  readonly flags?: ConfigTree;
  readonly overrides?: readonly string[];
}

export function loadTrainConfig(sources: ConfigSources): TrainConfig {
  const presetName = sources.preset ?? 'local';
  if (presetName !== 'local' && presetName !== 'paper') {
    throw new ConfigurationError(`unknown preset "${presetName}"; expected local or paper`);
  }
  let tree: ConfigTree = PRESETS[presetName];
  // Every source that went into the tree is named, so an error points at all of them.
  const source = [`preset ${presetName}`];
  if (sources.configFile !== undefined) {
    tree = mergeTrees(tree, readConfigFile(sources.configFile));
    source.push(`config ${sources.configFile}`);
  }
  if (sources.flags) tree = mergeTrees(tree, sources.flags);
  if (sources.overrides && sources.overrides.length > 0) {
    tree = mergeTrees(tree, parseOverrides(sources.overrides));
    source.push(`overrides ${sources.overrides.join(' ')}`);
  }
  return resolveTrainConfig(tree, source.join(' + '));
}

function readConfigFile(path: string): ConfigTree {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigurationError(`cannot read config file ${path}: ${String(err)}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigurationError(`config file ${path} is not valid YAML: ${String(err)}`, {
      cause: err,
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigurationError(`config file ${path} must hold a mapping at the top level`);
  }
  return parsed as ConfigTree;
}

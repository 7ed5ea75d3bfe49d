import {
  type Copy,
  type Env,
  type Healthcheck,
  type Instruction,
  type JSONInstruction,
  DockerfileParser,
} from 'dockerfile-ast';

/**
 * The Dockerfile as dockerfile-ast (the parser of the VS Code Docker
 * extension's language server) reads it, reduced to what a test without a
 * Docker engine can carry out: per stage, its working directory, ENV, COPY
 * and RUN in order; the last stage's HEALTHCHECK and CMD.
 */

export type Step =
  | { kind: 'copy'; from: string | undefined; sources: string[]; destination: string }
  | { kind: 'run'; shell: string }
  | { kind: 'env'; name: string; value: string };

export interface Stage {
  name: string;
  workdir: string;
  steps: Step[];
}

export interface ImageSteps {
  stages: Stage[];
  /** The HEALTHCHECK's command, run as Docker runs a shell-form one: `/bin/sh -c`. */
  healthcheck: string;
  cmd: string[];
}

export function readDockerfile(text: string): ImageSteps {
  const stages: Stage[] = [];
  let healthcheck: string | undefined;
  let cmd: string[] | undefined;
  const current = (instruction: Instruction): Stage => {
    const stage = stages.at(-1);
    if (!stage)
      throw new Error(`line ${instruction.getRange().start.line + 1}: ${instruction.getKeyword()} before any FROM`);
    return stage;
  };
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const args = instruction.getArguments().map((argument) => argument.getValue());
    switch (instruction.getKeyword()) {
      case 'FROM':
        stages.push({ name: args[2] ?? String(stages.length), workdir: '/', steps: [] });
        break;
      case 'WORKDIR':
        current(instruction).workdir = args[0] ?? '/';
        break;
      case 'ENV':
        for (const property of (instruction as Env).getProperties())
          current(instruction).steps.push({ kind: 'env', name: property.getName(), value: property.getValue() ?? '' });
        break;
      case 'COPY': {
        // Flags (--from) are not among the arguments.
        const copy = instruction as Copy;
        current(instruction).steps.push({
          kind: 'copy',
          from: copy.getFromFlag()?.getValue() ?? undefined,
          sources: args.slice(0, -1),
          destination: args.at(-1) ?? '',
        });
        break;
      }
      case 'RUN':
        current(instruction).steps.push({ kind: 'run', shell: shellText(instruction) });
        break;
      case 'HEALTHCHECK': {
        const subcommand = (instruction as Healthcheck).getSubcommand();
        if (subcommand?.getValue() !== 'CMD')
          throw new Error(`HEALTHCHECK ${subcommand?.getValue() ?? ''}: expected HEALTHCHECK … CMD <command>`);
        healthcheck = shellText(instruction).replace(/^CMD\s+/, '');
        break;
      }
      case 'CMD': {
        const json = (instruction as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue());
        if (json.length === 0) throw new Error('CMD: expected the exec form, ["node", …]');
        cmd = json;
        break;
      }
      default:
        // USER, EXPOSE and the like change nothing a run here can carry out.
        break;
    }
  }
  if (healthcheck === undefined || cmd === undefined) throw new Error('the Dockerfile has no HEALTHCHECK or no CMD');
  return { stages, healthcheck, cmd };
}

/** A shell-form instruction's text, quotes kept and continuation lines joined, as Docker hands it to /bin/sh -c. */
function shellText(instruction: Instruction): string {
  return instruction.getArgumentsContent() ?? '';
}

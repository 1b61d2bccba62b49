import type { ProblemCode, SourcePos } from '../../errors.js';
import type { Normalised } from '../normalise.js';

export type AddProblem = (code: ProblemCode, message: string, pos: SourcePos) => void;

/** A named check over the normalised model; it reports, never throws. */
export type Rule = (m: Normalised, add: AddProblem) => void;

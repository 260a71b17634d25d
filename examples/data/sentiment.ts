/**
 * A synthetic sentiment corpus for the text-attribution example, generated offline from word lists and
 * a seed. A sentence is one or two clauses joined by "and"; a clause is "<subject> <verb> [negator]
 * [intensifier] <adjective>" ("the plot was not very good"). A clause's polarity is its adjective's,
 * flipped by a negator; a sentence is positive (label 1) or negative (0) when its clauses agree (mixed
 * sentences are not generated). So a classifier must read adjectives and the negators before them;
 * subjects, verbs and intensifiers carry no sentiment.
 */
import { mulberry32 } from '../../src/core/seeded-random';

const SUBJECTS = ['the movie', 'the film', 'the plot', 'the acting', 'the story', 'the music', 'the ending', 'the cast', 'this film', 'it'];
const VERBS = ['was', 'is', 'felt', 'seemed'];
const NEGATORS = ['not', 'never', 'hardly'];
const INTENSIFIERS = ['very', 'really', 'truly', 'quite'];
export const POSITIVE_WORDS = ['good', 'great', 'excellent', 'wonderful', 'lovely', 'brilliant', 'enjoyable', 'fun'];
export const NEGATIVE_WORDS = ['bad', 'awful', 'terrible', 'boring', 'dull', 'poor', 'weak', 'horrible'];

/** Token id 0 pads sentences to {@link SENTENCE_LENGTH} (and is the usual IG baseline). */
export const PAD = '<pad>';
/** Every word, its index being its token id. */
export const VOCABULARY: readonly string[] = [
  PAD,
  'and',
  ...new Set([...SUBJECTS.flatMap((s) => s.split(' ')), ...VERBS, ...NEGATORS, ...INTENSIFIERS, ...POSITIVE_WORDS, ...NEGATIVE_WORDS]),
];
/** Tokens per sentence after padding (the longest sentence has 13). */
export const SENTENCE_LENGTH = 14;

/** A labelled sentence. */
export interface Sentence {
  text: string;
  /** 1 positive, 0 negative. */
  label: number;
}

/** `count` sentences drawn from `seed`, about half positive. */
export function sentimentCorpus(count: number, seed: number): Sentence[] {
  const random = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const clause = (positive: boolean): string => {
    const negated = random() < 0.4;
    const adjective = pick(positive !== negated ? POSITIVE_WORDS : NEGATIVE_WORDS);
    const words = [pick(SUBJECTS), pick(VERBS), ...(negated ? [pick(NEGATORS)] : []), ...(random() < 0.3 ? [pick(INTENSIFIERS)] : []), adjective];
    return words.join(' ');
  };
  return Array.from({ length: count }, () => {
    const positive = random() < 0.5;
    const clauses = random() < 0.35 ? [clause(positive), clause(positive)] : [clause(positive)];
    return { text: clauses.join(' and '), label: positive ? 1 : 0 };
  });
}

/** Token ids of `text`, padded with 0 to {@link SENTENCE_LENGTH}; unknown words are an error. */
export function encode(text: string): number[] {
  const ids = text.split(' ').map((word) => {
    const id = VOCABULARY.indexOf(word);
    if (id < 0) throw new Error(`"${word}" is not in the vocabulary`);
    return id;
  });
  if (ids.length > SENTENCE_LENGTH) throw new Error(`"${text}" has more than ${SENTENCE_LENGTH} words`);
  return [...ids, ...new Array<number>(SENTENCE_LENGTH - ids.length).fill(0)];
}

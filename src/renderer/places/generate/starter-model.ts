/**
 * The built-in starter model as the creator reads it wherever a take says what it was made with: Generate's picker,
 * History's cards, details and comparisons. One short name, so the picker shows it whole at the panel's width, and
 * what it is on the line under the picker (its random weights make abstract colour, never a picture).
 */
export const STARTER_MODEL_NAME = 'Starter test model';

export const STARTER_MODEL_NOTE = 'Built in, random weights: abstract colour only. Add an SD1.5 checkpoint in the Library for real clips.';

/** What a server action returns to the form that called it. */
export interface FormState {
  error?: string;
  notice?: string;
  /** A value shown once (a new API key, a webhook's signing secret). */
  secret?: string;
}

export const initialState: FormState = {};

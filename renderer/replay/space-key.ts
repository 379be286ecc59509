// Whether Space already means something where it is pressed: the replay's play and pause key
// leaves such places alone (typing in a field, opening a select, pressing a button or a link,
// ticking a box, opening a <summary>). Pure: it reads a description of the focused element.

/** What `spaceIsTaken` needs to know of the element Space is pressed on. */
export interface KeyTarget {
  /** Upper case, as Element.tagName has it in an HTML document. */
  readonly tagName: string;
  /** An <input>'s type. */
  readonly type?: string;
  readonly role: string | null;
  readonly hasHref: boolean;
  readonly editable: boolean;
}

/** Inputs Space does nothing in: a range's keys are arrows, Home, End and Page Up and Down. */
const SPACE_FREE_INPUTS: ReadonlySet<string> = new Set(['range']);
const SPACE_TAGS: ReadonlySet<string> = new Set(['TEXTAREA', 'SELECT', 'OPTION', 'BUTTON', 'SUMMARY']);
/** Roles whose keyboard pattern gives Space a meaning. */
const SPACE_ROLES: ReadonlySet<string> = new Set(['button', 'link', 'checkbox', 'radio', 'switch', 'tab', 'option', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'textbox', 'combobox', 'searchbox', 'listbox', 'treeitem', 'gridcell']);

export function spaceIsTaken(t: KeyTarget): boolean {
  if (t.editable) return true;
  if (t.tagName === 'INPUT') return !SPACE_FREE_INPUTS.has(t.type ?? 'text');
  if (SPACE_TAGS.has(t.tagName)) return true;
  if (t.tagName === 'A' && t.hasHref) return true;
  return t.role !== null && SPACE_ROLES.has(t.role);
}

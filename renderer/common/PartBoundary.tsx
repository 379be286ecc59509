// A part of the window that fails to draw (a mistake of loopscope's: the data comes checked
// from the host) says so in its own place, and the rest of the window works on. Without it,
// React unmounts the whole tree on one error, and the user is left with a blank window.

import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  /** What failed, as the message names it: "The Profile pane". */
  readonly what: string;
  readonly children: ReactNode;
}

interface State {
  readonly error: Error | undefined;
}

export class PartBoundary extends Component<Props, State> {
  override state: State = { error: undefined };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    // The developer tools' console keeps the stack, for a bug report.
    console.error(`${this.props.what} failed to draw`, error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="state error part-failed" role="alert" data-testid="part-failed">
        {this.props.what} failed to draw: {error.message || error.name}. The rest of the window works on; this is loopscope's
        mistake (the console of the developer tools has its stack, for a bug report).{' '}
        <button type="button" onClick={() => this.setState({ error: undefined })}>Try again</button>
      </div>
    );
  }
}

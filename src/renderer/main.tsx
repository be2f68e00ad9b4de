import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connect } from './api/connection';
import { App } from './App';
import { StartupError } from './components/StartupError';
import { serializeError } from '../shared/errors';
import { applyTheme, storedTheme } from './state/theme';
import './styles.css';

applyTheme(storedTheme());

const root = createRoot(document.getElementById('root') as HTMLElement);

connect().then(
  (connection) =>
    root.render(
      <StrictMode>
        <App connection={connection} />
      </StrictMode>,
    ),
  (e: unknown) => root.render(<StartupError error={serializeError(e)} />),
);

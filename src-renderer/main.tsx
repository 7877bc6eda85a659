// Renderer entry: mounts the status view.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { StatusPage } from './features/status/StatusPage.js';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <StatusPage />
  </StrictMode>,
);

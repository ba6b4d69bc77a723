import { Routes } from '@angular/router';

export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'new' },
  {
    path: 'new',
    title: 'New job · BatchLab',
    loadComponent: () =>
      import('./features/job-submission/job-form.component').then((m) => m.JobFormComponent),
  },
  {
    path: 'jobs',
    title: 'My jobs · BatchLab',
    loadComponent: () =>
      import('./features/job-list/job-list.component').then((m) => m.JobListComponent),
  },
  {
    path: 'jobs/:id',
    title: 'Job · BatchLab',
    loadComponent: () =>
      import('./features/job-status/job-status.component').then((m) => m.JobStatusComponent),
  },
  {
    path: 'batches/new',
    title: 'New batch · BatchLab',
    loadComponent: () =>
      import('./features/batch-submission/batch-form.component').then((m) => m.BatchFormComponent),
  },
  {
    path: 'batches/:id',
    title: 'Batch · BatchLab',
    loadComponent: () =>
      import('./features/batch-status/batch-status.component').then((m) => m.BatchStatusComponent),
  },
  {
    path: 'queues',
    title: 'Queues · BatchLab',
    loadComponent: () =>
      import('./features/queue-panel/queue-panel.component').then((m) => m.QueuePanelComponent),
  },
  {
    path: 'charts',
    title: 'Charts · BatchLab',
    loadComponent: () => import('./features/charts/charts.component').then((m) => m.ChartsComponent),
  },
  {
    path: 'dlq',
    title: 'Dead letters · BatchLab',
    loadComponent: () => import('./features/dlq/dlq.component').then((m) => m.DlqComponent),
  },
  {
    path: '**',
    title: 'Page not found · BatchLab',
    loadComponent: () =>
      import('./features/not-found/not-found-page.component').then((m) => m.NotFoundPageComponent),
  },
];

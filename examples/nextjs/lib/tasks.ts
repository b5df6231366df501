// Warden's task API (/api/v1/tasks), as the server and the browser call it. The shapes are proto3 JSON of
// warden.task.v1.Task; docs/migrating-from-better-auth.md lists how they differ from the old FastAPI service's.

import { WardenError, wardenFetch, type Credentials } from "./warden";

export type Task = {
  id: string;
  title: string;
  description: string;
  completed: boolean;
  createdAt: string;
  updatedAt: string;
  etag: string;
};

/** The user's tasks, newest first: the first 100 (the API pages with pageSize and nextPageToken). */
export async function listTasks(credentials: Credentials): Promise<Task[]> {
  const response = await wardenFetch("/api/v1/tasks?pageSize=100", credentials);
  if (!response.ok) throw await WardenError.from(response);
  const { tasks } = (await response.json()) as { tasks: Task[] };
  return tasks;
}

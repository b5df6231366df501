"use client";

import { useState, type FormEvent } from "react";

import type { Task } from "@/lib/tasks";
import { useHydrated } from "@/lib/use-hydrated";

/** Calls the task API on this app's origin (forwarded to Warden); the browser sends the session cookie itself. */
async function call(path: string, init: RequestInit): Promise<Response> {
  const response = await fetch(path, { ...init, headers: { "content-type": "application/json", ...init.headers } });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { message?: string } | null;
    throw new Error(body?.message ?? `The task API answered ${response.status}`);
  }
  return response;
}

export function TaskList({ initialTasks }: { initialTasks: Task[] }) {
  const [tasks, setTasks] = useState(initialTasks);
  const [error, setError] = useState<string | null>(null);
  const hydrated = useHydrated();

  async function attempt(action: () => Promise<void>) {
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError((failure as Error).message);
    }
  }

  function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const title = String(new FormData(form).get("title")).trim();
    if (!title) return;
    return attempt(async () => {
      const response = await call("/api/v1/tasks", { method: "POST", body: JSON.stringify({ title }) });
      const task = (await response.json()) as Task;
      setTasks((current) => [task, ...current]);
      form.reset();
    });
  }

  function toggle(task: Task) {
    return attempt(async () => {
      // If-Match: the change applies only to the version shown here, so two tabs cannot silently undo each other.
      const response = await call(`/api/v1/tasks/${encodeURIComponent(task.id)}`, {
        method: "PATCH",
        headers: { "if-match": `"${task.etag}"` },
        body: JSON.stringify({ completed: !task.completed }),
      });
      const updated = (await response.json()) as Task;
      setTasks((current) => current.map((each) => (each.id === updated.id ? updated : each)));
    });
  }

  function remove(task: Task) {
    return attempt(async () => {
      await call(`/api/v1/tasks/${encodeURIComponent(task.id)}`, { method: "DELETE" });
      setTasks((current) => current.filter((each) => each.id !== task.id));
    });
  }

  return (
    <section>
      <form className="add" onSubmit={create}>
        <input name="title" aria-label="New task" placeholder="What needs doing?" maxLength={200} required />
        <button type="submit" disabled={!hydrated}>
          Add
        </button>
      </form>
      {error && <p role="alert">{error}</p>}
      {tasks.length === 0 ? (
        <p>No tasks yet.</p>
      ) : (
        <ul aria-label="Tasks">
          {tasks.map((task) => (
            <li key={task.id} data-completed={task.completed}>
              <input
                type="checkbox"
                aria-label={`Done: ${task.title}`}
                checked={task.completed}
                disabled={!hydrated}
                onChange={() => toggle(task)}
              />
              <span>{task.title}</span>
              <button
                type="button"
                aria-label={`Delete ${task.title}`}
                disabled={!hydrated}
                onClick={() => remove(task)}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

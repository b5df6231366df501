import { redirect } from "next/navigation";

import { getSession } from "@/lib/session";
import { listTasks } from "@/lib/tasks";

import { SignOutButton } from "./sign-out-button";
import { TaskList } from "./task-list";

// A server component: the session and the task list are read on the server, so the first HTML the browser gets
// already holds the user's tasks.
export default async function TasksPage() {
  const session = await getSession();
  // The middleware only saw that a session cookie exists; lib/session.ts says whether the session is still good.
  if (!session) redirect("/sign-in?next=/tasks");
  const tasks = await listTasks(session.credentials);

  return (
    <main>
      <header>
        <h1>Tasks</h1>
        <SignOutButton />
      </header>
      <p>
        Signed in as <strong data-testid="user-name">{session.user.name}</strong> (
        <span data-testid="user-email">{session.user.email}</span>), session read through{" "}
        <code data-testid="session-source">{session.source}</code>.
      </p>
      <TaskList initialTasks={tasks} />
    </main>
  );
}

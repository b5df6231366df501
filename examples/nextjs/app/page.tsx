import Link from "next/link";

export default function Home() {
  return (
    <main>
      <h1>Tasks</h1>
      <p>
        <Link href="/tasks">Your tasks</Link> · <Link href="/sign-in">Sign in</Link> ·{" "}
        <Link href="/sign-up">Create an account</Link>
      </p>
    </main>
  );
}

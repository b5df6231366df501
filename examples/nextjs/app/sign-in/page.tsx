"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState, type FormEvent } from "react";

import { signIn } from "@/lib/auth-client";
import { useHydrated } from "@/lib/use-hydrated";

/** Where to go after signing in: the page the middleware sent the visitor away from, if it is one of ours. */
function nextPath(value: string | null): string {
  return value && value.startsWith("/") && !value.startsWith("//") ? value : "/tasks";
}

function SignInForm() {
  const router = useRouter();
  const next = nextPath(useSearchParams().get("next"));
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const hydrated = useHydrated();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(null);
    const { error } = await signIn.email({
      email: String(form.get("email")),
      password: String(form.get("password")),
    });
    setPending(false);
    if (error) {
      setError(error.message ?? "Could not sign in");
      return;
    }
    router.push(next);
    router.refresh();
  }

  return (
    <form onSubmit={onSubmit}>
      <label>
        Email
        <input name="email" type="email" autoComplete="email" required />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      {error && <p role="alert">{error}</p>}
      <button type="submit" disabled={!hydrated || pending}>
        Sign in
      </button>
    </form>
  );
}

export default function SignInPage() {
  return (
    <main>
      <h1>Sign in</h1>
      <Suspense>
        <SignInForm />
      </Suspense>
      <p>
        No account yet? <Link href="/sign-up">Create one</Link>
      </p>
    </main>
  );
}

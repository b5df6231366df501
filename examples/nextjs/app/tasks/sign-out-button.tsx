"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";

import { signOut } from "@/lib/auth-client";
import { useHydrated } from "@/lib/use-hydrated";

export function SignOutButton() {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const hydrated = useHydrated();

  async function onClick() {
    setPending(true);
    await signOut();
    router.push("/sign-in");
    router.refresh();
  }

  return (
    <button type="button" onClick={onClick} disabled={!hydrated || pending}>
      Sign out
    </button>
  );
}

"use client";

import { createAuthClient } from "better-auth/react";

// Better Auth's own React client. It calls /api/auth/* on this app's origin.
export const authClient = createAuthClient();

export const { signIn, signUp, signOut, useSession } = authClient;

/** A view setting that survives reloads (see lib/storedFlags): [on, toggle]. */
import { useCallback, useState } from "react";
import { readFlag, writeFlag, type FlagName } from "../lib/storedFlags";

export function useStoredFlag(name: FlagName): [boolean, () => void] {
  const [on, setOn] = useState(() => readFlag(name));
  const toggle = useCallback(() => {
    setOn((was) => {
      writeFlag(name, !was);
      return !was;
    });
  }, [name]);
  return [on, toggle];
}

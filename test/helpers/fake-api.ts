// A UiApi for testing what carries calls (the web host, the call checker) rather than what
// answers them: the methods a test gives, and every other one rejects, naming itself.

import type { UiApi } from '../../main/ui/ui-api';

export function fakeApi(methods: Partial<UiApi>): UiApi {
  return new Proxy(methods, {
    get(target, name) {
      const given = target[name as keyof UiApi];
      if (given) return given;
      return () => Promise.reject(new Error(`fake api: ${String(name)} was called but the test gave none`));
    },
  }) as UiApi;
}

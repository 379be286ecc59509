// IPC channel names, shared by the preload and the main side.

export const IPC = {
  call: 'loopscope:call',
  subscribe: 'loopscope:subscribe',
  events: 'loopscope:events',
} as const;

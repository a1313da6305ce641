// Read by bottender from the working directory (server.js chdirs here),
// exactly as `bottender start` would read it.
module.exports = {
  // bottender's default store (unbounded LRU in process memory).
  session: { driver: 'memory' },
  channels: {
    messenger: {
      enabled: true,
      path: '/webhooks/messenger',
      pageId: process.env.PAGE_ID || '424242',
      accessToken: process.env.ACCESS_TOKEN || 'bench-token',
      appSecret: process.env.APP_SECRET,
      verifyToken: process.env.VERIFY_TOKEN || 'bench-verify',
      // No Graph API profile lookup per new sender (the bench box has no
      // internet). Already bottender's default; set so it stays that way.
      skipLegacyProfile: true,
    },
  },
};

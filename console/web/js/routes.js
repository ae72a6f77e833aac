// The console's views, in nav order. Each module exports default
// { route: '#/users', nav: 'nav.users' (or null), permission: 'users.manage' (or null),
//   public: true (shown without a session), render(el, params, ctx) }.
import login from './views/login.js';
import forgot from './views/forgot.js';
import setPassword from './views/setpassword.js';
import users from './views/users.js';

export default [
  login,
  forgot,
  setPassword,
  users,
];

// The console's views, in nav order. Each module exports default
// { route: '#/users', nav: 'nav.users' (or null), permission: 'users.manage' (or null),
//   public: true (shown without a session), render(el, params, ctx) }.
import login from './views/login.js';
import forgot from './views/forgot.js';
import setPassword from './views/setpassword.js';
import users from './views/users.js';
import userNew from './views/usernew.js';
import user from './views/user.js';

export default [
  login,
  forgot,
  setPassword,
  users,
  userNew,
  user,
];

// The console's views, in nav order. Each module exports default
// { route: '#/users', nav: 'nav.users' (or null), permission: 'users.manage' (or null),
//   public: true (shown without a session), render(el, params, ctx) }.
import login from './views/login.js';
import forgot from './views/forgot.js';
import setPassword from './views/setpassword.js';
import users from './views/users.js';
import userNew from './views/usernew.js';
import user from './views/user.js';
import departments from './views/departments.js';
import phones from './views/phones.js';
import models from './views/models.js';
import numbers from './views/numbers.js';
import importer from './views/import.js';
import settings from './views/settings.js';
import audit from './views/audit.js';
import outbox from './views/outbox.js';
import tenants from './views/tenants.js';
import me from './views/me.js';

export default [
  login,
  forgot,
  setPassword,
  users,
  userNew,
  user,
  importer,
  departments,
  phones,
  models,
  numbers,
  settings,
  audit,
  outbox,
  tenants,
  me,
];

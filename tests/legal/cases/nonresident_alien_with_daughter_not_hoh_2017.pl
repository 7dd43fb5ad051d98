% Text
% Mina, a nonresident alien, has never married. Her daughter Nell, born on May 5th, 2010, has
% always lived with her in her flat, whose costs ($9000 in 2017) Mina pays alone. Nell has no
% income. Mina was paid $30000 in 2017.
% By hand: a nonresident alien is not a head of household (§2(b)(3)(A)) and gets no standard
% deduction (§63(c)(6)(B)). §1(c); exemptions for Mina and Nell (a qualifying child): $4,000.
% $30,000 - $0 - $4,000 = $26,000: §1(c)(ii), $3,315 + 28% of $3,900 = $4,407.

% Question
% How much tax does mina have to pay in 2017? $4407

% Facts
:- [statutes/prolog/init].
nonresident_alien_(mina_nra).
agent_(mina_nra,mina).
daughter_(nell_is_minas_daughter).
agent_(nell_is_minas_daughter,nell).
patient_(nell_is_minas_daughter,mina).
birth_(nell_born).
agent_(nell_born,nell).
start_(nell_born,"2010-05-05").
residence_(mina_home).
agent_(mina_home,mina).
patient_(mina_home,minas_flat).
start_(mina_home,"2010-01-01").
residence_(nell_home).
agent_(nell_home,nell).
patient_(nell_home,minas_flat).
start_(nell_home,"2010-05-05").
payment_(mina_keeps_flat).
agent_(mina_keeps_flat,mina).
purpose_(mina_keeps_flat,minas_flat).
amount_(mina_keeps_flat,9000).
start_(mina_keeps_flat,"2017-06-30").
payment_(mina_paid).
patient_(mina_paid,mina).
amount_(mina_paid,30000).
start_(mina_paid,"2017-12-31").

% Test
:- tax(mina,2017,4407).
:- halt.

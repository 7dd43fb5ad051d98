% Text
% Fox has never married. His son Gabe, born February 2nd, 1997, lived with him in Fox's house,
% whose costs Fox pays alone ($12000 in 2017), until May 31st, 2017, and since June 1st, 2017
% in a flat of his own. Gabe has no income. Fox was paid $50000 in 2017 and takes the standard
% deduction.
% By hand: Gabe shared Fox's abode for 151 days of 2017, not more than half of it: not Fox's
% qualifying child (§152(c)(1)(B)), and nobody else's. He is Fox's child with no income: a
% qualifying relative (§152(d)), so Fox has two exemptions. Not a head of household: the
% household was Gabe's abode for less than half the year (§2(b)(1)(A)). $50,000 - $3,000 -
% $4,000 = $43,000: §1(c)(ii), $3,315 + 28% of $20,900 = $9,167.

% Question
% How much tax does fox have to pay in 2017? $9167

% Facts
:- [statutes/prolog/init].
son_(gabe_is_foxs_son).
agent_(gabe_is_foxs_son,gabe).
patient_(gabe_is_foxs_son,fox).
birth_(gabe_born).
agent_(gabe_born,gabe).
start_(gabe_born,"1997-02-02").
residence_(fox_home).
agent_(fox_home,fox).
patient_(fox_home,foxs_house).
start_(fox_home,"1995-01-01").
residence_(gabe_at_home).
agent_(gabe_at_home,gabe).
patient_(gabe_at_home,foxs_house).
start_(gabe_at_home,"1997-02-02").
end_(gabe_at_home,"2017-05-31").
residence_(gabe_own_flat).
agent_(gabe_own_flat,gabe).
patient_(gabe_own_flat,gabes_flat).
start_(gabe_own_flat,"2017-06-01").
payment_(fox_keeps_house).
agent_(fox_keeps_house,fox).
purpose_(fox_keeps_house,foxs_house).
amount_(fox_keeps_house,12000).
start_(fox_keeps_house,"2017-06-30").
payment_(fox_paid).
patient_(fox_paid,fox).
amount_(fox_paid,50000).
start_(fox_paid,"2017-12-31").

% Test
:- tax(fox,2017,9167).
:- halt.

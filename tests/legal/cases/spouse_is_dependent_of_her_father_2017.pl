% Text
% Oscar married Pia on March 1st, 2017. Pia, born April 4th, 1995, has no income and lives in
% her father Rob's house, as she always has; Rob pays its costs and was paid $60000 in 2017. Oscar lives in his own flat and
% was paid $30000 in 2017. Oscar and Pia do not file a joint return; nobody itemizes.
% By hand: Pia is Rob's qualifying child (his daughter, same abode, 22, no joint return), hence
% the dependent of another taxpayer: §151(b) gives Oscar no exemption for her. Rob, her father,
% has income: not Oscar's qualifying relative (§152(d)(2)(G), (d)(1)(B)). Married, separate
% return: §1(d). $30,000 - $3,000 - $2,000 = $25,000: §1(d)(ii), $2,767.50 + 28% of $6,550
% = $4,601.50, $4,602.

% Question
% How much tax does oscar have to pay in 2017? $4602

% Facts
:- [statutes/prolog/init].
marriage_(oscar_and_pia).
agent_(oscar_and_pia,oscar).
agent_(oscar_and_pia,pia).
start_(oscar_and_pia,"2017-03-01").
daughter_(pia_is_robs_daughter).
agent_(pia_is_robs_daughter,pia).
patient_(pia_is_robs_daughter,rob).
birth_(pia_born).
agent_(pia_born,pia).
start_(pia_born,"1995-04-04").
birth_(rob_born).
agent_(rob_born,rob).
start_(rob_born,"1965-05-05").
residence_(rob_home).
agent_(rob_home,rob).
patient_(rob_home,robs_house).
start_(rob_home,"1995-01-01").
residence_(pia_home).
agent_(pia_home,pia).
patient_(pia_home,robs_house).
start_(pia_home,"1995-04-04").
payment_(rob_keeps_house).
agent_(rob_keeps_house,rob).
purpose_(rob_keeps_house,robs_house).
amount_(rob_keeps_house,14000).
start_(rob_keeps_house,"2017-06-30").
payment_(rob_paid).
patient_(rob_paid,rob).
amount_(rob_paid,60000).
start_(rob_paid,"2017-12-31").
residence_(oscar_home).
agent_(oscar_home,oscar).
patient_(oscar_home,oscars_flat).
start_(oscar_home,"2015-01-01").
payment_(oscar_paid).
patient_(oscar_paid,oscar).
amount_(oscar_paid,30000).
start_(oscar_paid,"2017-12-31").

% Test
:- tax(oscar,2017,4602).
:- halt.

% Text
% Lou has never married. His grandmother Mae, the mother of his mother Nina, has lived with him
% in his flat since 2012; Lou pays all of its costs ($10000 in 2017). Mae has no income. Nina
% lives elsewhere and was paid $30000 in 2017. Lou was paid $40000 in 2017; he takes the
% standard deduction.
% By hand: Mae is an ancestor of Lou's mother (§152(d)(2)(C)) with no income and nobody's
% qualifying child: Lou's qualifying relative, hence dependent. She lives in the household Lou
% maintains all year: head of household (§2(b)(1)(A)(ii); not by reason of §152(d)(2)(H) only).
% $40,000 - $4,400 - $4,000 = $31,600: §1(b)(ii), $4,440 + 28% of $2,000 = $5,000.

% Question
% How much tax does lou have to pay in 2017? $5000

% Facts
:- [statutes/prolog/init].
mother_(mae_is_ninas_mother).
agent_(mae_is_ninas_mother,mae).
patient_(mae_is_ninas_mother,nina).
mother_(nina_is_lous_mother).
agent_(nina_is_lous_mother,nina).
patient_(nina_is_lous_mother,lou).
residence_(lou_home).
agent_(lou_home,lou).
patient_(lou_home,lous_flat).
start_(lou_home,"2010-01-01").
residence_(mae_home).
agent_(mae_home,mae).
patient_(mae_home,lous_flat).
start_(mae_home,"2012-01-01").
payment_(lou_keeps_flat).
agent_(lou_keeps_flat,lou).
purpose_(lou_keeps_flat,lous_flat).
amount_(lou_keeps_flat,10000).
start_(lou_keeps_flat,"2017-06-30").
payment_(nina_paid).
patient_(nina_paid,nina).
amount_(nina_paid,30000).
start_(nina_paid,"2017-12-31").
payment_(lou_paid).
patient_(lou_paid,lou).
amount_(lou_paid,40000).
start_(lou_paid,"2017-12-31").

% Test
:- tax(lou,2017,5000).
:- halt.
